"""HashMapOrder against std::unordered_map<uint32_t, T> iteration orders printed by GCC 12's
libstdc++ (Debian 12 / Ubuntu 22.04) for the same inserts and erases."""

import pytest

from fabriclab.switch.p4runtime.hash_map_order import HashMapOrder


def run(ops: str) -> list[int]:
    order = HashMapOrder()
    words = ops.split()
    for op, key in zip(words[::2], words[1::2]):
        (order.add if op == "a" else order.discard)(int(key))
    return list(order)


@pytest.mark.parametrize("ops, libstdcxx", [
    ("a 3 a 4", [4, 3]),  # one bucket each: the newest first
    ("a 1 a 14 a 2 a 27", [2, 27, 14, 1]),  # 13 buckets: 1, 14, 27 share one, the newest first in it
    ("a 40 a 1 a 27 a 14 a 53 d 27 a 66 a 2", [2, 66, 53, 14, 1, 40]),
    (" ".join(f"a {k}" for k in range(20)), [*range(19, 12, -1), *range(13)]),  # 14th insert: 29 buckets
    (" ".join(f"a {k}" for k in range(30)), [29, *range(12, -1, -1), *range(13, 29)]),  # 30th: 59
    (" ".join(f"a {k}" for k in range(100, 39, -3)) + " d 70 a 1000",
     [40, 1000, 43, 46, 49, 52, 55, 58, 61, 100, 97, 94, 91, 88, 85, 82, 79, 76, 73, 67, 64]),
])
def test_order_is_libstdcxx_order(ops, libstdcxx):
    assert run(ops) == libstdcxx


def test_erasing_keeps_the_others_and_re_adding_is_new():
    order = HashMapOrder()
    for key in (5, 6, 7):
        order.add(key)
    order.add(6)  # present: nothing moves
    assert list(order) == [7, 6, 5] and len(order) == 3 and 6 in order
    order.discard(6)
    order.discard(99)
    assert list(order) == [7, 5] and 6 not in order
    order.add(6)
    assert list(order) == [6, 7, 5]


def test_65536_keys_in_order_and_quickly():
    order = HashMapOrder()
    for key in range(1 << 16):
        order.add(key)
    keys = list(order)
    assert len(keys) == len(order) == 1 << 16 and sorted(keys) == list(range(1 << 16))
