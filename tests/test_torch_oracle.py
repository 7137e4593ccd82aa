"""``torch_one_thread``: torch on one thread inside the block, its own thread count after it."""

import pytest

from grader import torch_one_thread


def test_one_thread_inside_the_block_and_the_count_it_had_after_it_even_when_it_raises():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch_one_thread() as module:
            assert module is torch and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(ZeroDivisionError), torch_one_thread():
            1 / 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
