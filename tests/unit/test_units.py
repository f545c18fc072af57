"""fabriclab.units: the one grammar for rates, sizes and times, and its error messages."""

from __future__ import annotations

import pytest

from fabriclab.errors import FabricError
from fabriclab.units import Rate, parse_bitrate, parse_rate, parse_size, parse_sizes, parse_time_ns


@pytest.mark.parametrize("text", ["10mbit", "10M", "10m", "10Mb/s", "10Mbps", "10Mbit/s", "10 Mb",
                                  "1e7", "10000000", "10000kbit", "0.01G", "0.01gbit"])
def test_every_spelling_of_ten_megabit_is_one_rate(text):
    assert parse_bitrate(text) == pytest.approx(10e6)


@pytest.mark.parametrize("text, rate", [("1000pps", Rate(pps=1000)), ("1G", Rate(bps=1e9)),
                                        ("2.5Gbit", Rate(bps=2.5e9)), ("64000", Rate(bps=64000))])
def test_queue_rates_take_packets_per_second_too(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text, size", [("1500", 1500), ("96k", 98304), ("96K", 98304),
                                        ("64kb", 65536), ("64KiB", 65536), ("1M", 1 << 20),
                                        ("1mb", 1 << 20), ("2G", 2 << 30), ("1.5k", 1536), ("10b", 10)])
def test_sizes_are_binary_multiples_of_bytes(text, size):
    assert parse_size(text) == size


def test_size_ranges_follow_nccl_tests():
    assert parse_sizes("64K:1M") == [64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20]
    assert parse_sizes("1M") == [1 << 20]
    assert parse_sizes("1K:64K", factor=4) == [1 << 10, 4 << 10, 16 << 10, 64 << 10]


@pytest.mark.parametrize("text, ns", [("5ms", 5_000_000), ("250us", 250_000), ("1s", 10**9),
                                      ("10ns", 10), ("0.5ms", 500_000), ("100", 100_000)])
def test_times_become_integer_nanoseconds(text, ns):
    assert parse_time_ns(text) == ns


def test_a_bare_time_takes_the_callers_unit():
    assert parse_time_ns("3", default_unit="ms") == 3_000_000


@pytest.mark.parametrize("call, message", [
    (lambda: parse_bitrate("fast", "--rate"), r"--rate: 'fast' is not a rate \(examples: 10M"),
    (lambda: parse_bitrate("10furlongs", "--rate"), "--rate: unknown rate unit 'furlongs'"),
    (lambda: parse_bitrate("0", "--rate"), "--rate: rate must be positive"),
    (lambda: parse_bitrate("1000pps", "--rate"), "unknown rate unit 'pps'"),
    (lambda: parse_rate("-5", "--port-rate"), "'-5' is not a rate"),
    (lambda: parse_size("0", "--queue"), "--queue: size must be at least 1 byte"),
    (lambda: parse_size("1q", "--size"), "--size: unknown size unit 'q'"),
    (lambda: parse_size("1Mbit", "--size"), "unknown size unit 'mbit'"),
    (lambda: parse_sizes("1M:1K"), "ends below its start"),
    (lambda: parse_sizes("1K:1M", factor=1), "factor must be at least 2"),
    (lambda: parse_time_ns("5 fortnights", "--delay"), "--delay: unknown time unit 'fortnights'"),
    (lambda: parse_time_ns("soon", "--delay"), "--delay: 'soon' is not a time"),
])
def test_bad_values_get_one_line_errors_naming_the_flag(call, message):
    with pytest.raises(FabricError, match=message) as err:
        call()
    assert "\n" not in str(err.value)


def test_zero_is_allowed_where_the_caller_says_so():
    assert parse_size("0", "--ecn", minimum=0) == 0
