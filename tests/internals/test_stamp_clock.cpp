// The call-start stamp (cpp/timeout.hpp): a stamp converts back to the
// monotonic time it was taken at, and a stamp from outside what the
// reference pairs cover is clamped to them instead of landing anywhere.
#include <cstdarg>
#include <cstddef>
#include <csetjmp>
#include <cstdint>
#include <ctime>

extern "C" {  // cmocka.h declares C functions without saying so
#include <cmocka.h>
}

#include "cpp/timeout.hpp"

namespace {

void sleep_ms(long ms)
{
    timespec ts{ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

// A stamp taken between two clock reads converts to a time between them,
// also after the clock has moved on: the conversion interpolates, it does
// not read "now". The 1 ms of slack only absorbs how far the counter's rate
// over the last 100 ms can differ from its average; a conversion that
// ignored the stamp would be off by the 100 ms sleep.
void test_stamp_converts_to_when_it_was_taken(void **)
{
    sk::start_stamp_clock();
    const sk::Nanos before = sk::monotonic_now();
    const sk::Stamp stamp = sk::stamp_now();
    const sk::Nanos after = sk::monotonic_now();
    sleep_ms(100);
    const sk::Nanos at = sk::stamp_to_monotonic(stamp);
    assert_true(at >= before - 1000000);
    assert_true(at <= after + 1000000);
}

// Later stamps convert to later times.
void test_conversion_keeps_order(void **)
{
    sk::start_stamp_clock();
    const sk::Stamp first = sk::stamp_now();
    sleep_ms(20);
    const sk::Stamp second = sk::stamp_now();
    assert_true(sk::stamp_to_monotonic(first) < sk::stamp_to_monotonic(second));
}

// A stamp from before the first reference pair (here the smallest there is)
// is placed at that pair, never before it; one from the future (the largest)
// at the moment of the conversion, never later.
void test_out_of_range_stamps_are_clamped(void **)
{
    sk::start_stamp_clock();
    const sk::Nanos reference = sk::stamp_to_monotonic(0);
    const sk::Nanos started = sk::monotonic_now();
    assert_true(reference <= started);
    assert_true(reference > 0);
    assert_int_equal(sk::stamp_to_monotonic(0), reference);

    const sk::Nanos before = sk::monotonic_now();
    const sk::Nanos late = sk::stamp_to_monotonic(UINT64_MAX);
    const sk::Nanos after = sk::monotonic_now();
#if defined(__x86_64__)
    assert_true(late >= before && late <= after);
#else
    (void)before;
    (void)after;
    (void)late;  // elsewhere a stamp is the monotonic time itself
#endif
}

}  // namespace

int main()
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp_converts_to_when_it_was_taken),
        cmocka_unit_test(test_conversion_keeps_order),
        cmocka_unit_test(test_out_of_range_stamps_are_clamped),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
