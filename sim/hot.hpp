// SL_FLATTEN: forces a function into its callers, for the few frames on the path of every event.
//
// Mostly those between a fiber switch and the code around it: a switch returns into a different
// stack than the one the CPU's return-address predictor has recorded, so every return from the
// switch up to the event loop (on the scheduler's side) or up to the task's own code (on the
// task's side) is mispredicted, a cost per frame paid on every message. Forcing those frames into
// their callers shortens both chains.
// Use only in .cpp files, on functions defined before their callers and used only in that file.
#pragma once

#define SL_FLATTEN inline __attribute__((always_inline))
