// Planted determinism violations: tools/determinism_lint.sh must report exactly the lines that end
// with the planted marker and none of the others. Used by tests/lint_selftest.sh; never compiled.
#include <thread>                                          // <- planted
int a() { return rand(); }                                 // <- planted
auto b = std::chrono::system_clock::now();                 // <- planted
int c() { return std::getenv("HOME") != nullptr; }         // <- planted
int d() { return ::open("/etc/passwd", 0); }               // <- planted
std::mt19937 e;                                            // <- planted
std::unordered_map<Node*, int> f;                          // <- planted
// std::thread, rand() and getenv() named in a comment are fine
int g(Disk& disk) { return disk.open("log").ok(); }
int h() { return ::open("x", 0); }  // determinism-lint: allow exercised only by the self-test
