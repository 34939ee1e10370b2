"""mod_python.cache: the caches mod_python 3.5 ships, as handlers use them."""

from __future__ import annotations

import os
import time

from mod_python import cache


def test_file_cache_rereads_a_changed_file(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"one")
    files = cache.FileCache()
    assert files[str(path)] == b"one"
    path.write_bytes(b"two")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert files[str(path)] == b"two"


def test_module_cache_executes_outside_sys_modules(tmp_path):
    path = tmp_path / "script.py"
    path.write_text("VALUE = 6 * 7\n")
    module = cache.ModuleCache()[str(path)]
    assert module.VALUE == 42 and module.__file__ == str(path)


def test_lru_bound_and_function_cache():
    calls = []

    def square(x):
        calls.append(x)
        return x * x

    memo = cache.FunctionCache(square, max_size=2)
    assert [memo(2), memo(2), memo(3), memo(4), memo(2)] == [4, 4, 9, 16, 4]
    assert calls == [2, 3, 4, 2]  # 2 was evicted when 4 came in
    assert memo.lru() == ((4,), ()) and memo.mru() == ((2,), ())


def test_weak_cache_forgets_unused_values():
    class Value:
        pass

    weak = cache.WeakCache()
    weak.build = lambda key, name, opened, entry: Value()  # type: ignore[method-assign]
    held = weak["a"]
    assert weak["a"] is held
    del held
    assert "a" not in weak._dict
