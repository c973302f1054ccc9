// Only in sanitizer builds: Boost.Context's ucontext backend (the one AddressSanitizer can follow
// across stack switches) declares fiber_activation_record::current(), but Debian's libboost_context
// is built with the fcontext backend only, so the definition is missing at link time. This is that
// definition: a per-thread pointer to the running activation record, starting at a record for the
// thread's own (main) context, as Boost's own ucontext build does.
#if defined(BOOST_USE_UCONTEXT)
#include <boost/context/fiber.hpp>

namespace boost::context::detail {

fiber_activation_record*& fiber_activation_record::current() noexcept {
  thread_local fiber_activation_record main_context;
  thread_local fiber_activation_record* current_record = &main_context;
  return current_record;
}

}  // namespace boost::context::detail
#endif
