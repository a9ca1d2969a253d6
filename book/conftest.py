"""pytest settings for running the chapters under nbval (``make nbval``).

Two pytest-xdist workers start Jupyter kernels at the same moment. Each kernel picks
free TCP ports by binding and releasing them, so two kernels can race for the same
port and one dies before it answers ("Kernel died before replying to kernel_info").
A failed start is retried with fresh ports, a few times, before it counts as a failure.
"""

import time

import nbval.kernel

_start_new_kernel = nbval.kernel.start_new_kernel


def _start_new_kernel_with_retries(*args, attempts=4, **kwargs):
    for attempt in range(1, attempts + 1):
        try:
            return _start_new_kernel(*args, **kwargs)
        except RuntimeError:  # the kernel died at start-up: most likely a port race
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)


nbval.kernel.start_new_kernel = _start_new_kernel_with_retries
