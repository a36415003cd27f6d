"""Freed memory goes back to the system (parsc_geo._memory)."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import psutil
import pytest

from parsc_geo._memory import _libc, release_memory

POOL_OF = (
    "import parsc_geo, pyarrow; print(pyarrow.default_memory_pool().backend_name, "
    "__import__('os').environ['ARROW_DEFAULT_MEMORY_POOL'])"
)


def _pool_in_new_process(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", POOL_OF], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_pyarrow_allocates_with_the_c_library_and_workers_inherit_it() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    assert _pool_in_new_process(env) == "system system"


def test_a_pool_the_user_chose_is_kept() -> None:
    env = {**os.environ, "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}
    backend, variable = _pool_in_new_process(env).split()
    assert variable == "jemalloc"
    # jemalloc may not be built into this pyarrow: then pyarrow falls back, never to "system"
    assert backend != "system" or not _has_jemalloc()


def _has_jemalloc() -> bool:
    import pyarrow

    try:
        pyarrow.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(_libc() is None, reason="malloc_trim is glibc's (Linux)")
def test_freed_small_blocks_go_back_to_the_system() -> None:
    libc = _libc()
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    process = psutil.Process()
    block, count = 2048, 100_000  # 200 MB in blocks malloc keeps in its heap (no mmap)
    blocks = [libc.malloc(block) for _ in range(count)]
    for address in blocks:
        ctypes.memset(address, 1, block)  # touch every page
    # the last block stays: the heap's top cannot shrink, only a trim gives the rest back
    for address in blocks[:-1]:
        libc.free(address)
    before = process.memory_info().rss
    release_memory()
    after = process.memory_info().rss
    libc.free(blocks[-1])
    assert before - after > 150 * 2**20
