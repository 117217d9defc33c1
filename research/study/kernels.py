"""Jupyter kernels on Unix sockets in a private folder, for running notebooks safely in parallel.

By default a Jupyter kernel listens on TCP ports that the kernel manager picks by binding
port 0 and releasing it; the kernel binds them a few seconds later. Any other process on the
machine (another study run, another kernel, the other pytest-xdist worker) can take one of
those ports in between, and the kernel dies with "Address already in use". Kernels started
over TCP also print "Kernel is running over TCP without encryption" into the run's output.

:func:`ipc_kernel_manager` returns a kernel manager class whose kernels listen on Unix
sockets (ZeroMQ ``ipc`` transport) in a fresh private temporary folder per kernel, so nothing
is shared with other processes and nothing has to be picked and released. The folder is
short (Unix socket paths are limited to about 100 characters) and is removed when the kernel
is shut down (and, failing that, when the manager is collected or the process exits).
:func:`engine_kwargs` is the same as keyword arguments for ``papermill.execute_notebook``
(papermill passes them through its nbclient engine to ``nbclient.NotebookClient``, whose
``kernel_manager_class`` trait they set).

On Windows, where ZeroMQ has no ``ipc`` transport, the default (TCP) manager is returned.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
import weakref
from typing import Any

__all__ = ["ipc_kernel_manager", "engine_kwargs", "SOCKET_PATH_LIMIT"]

#: Longest socket path that works everywhere (``sun_path`` is 108 bytes on Linux, 104 on macOS;
#: the kernel appends ``-<n>`` to the base path).
SOCKET_PATH_LIMIT = 100

_PREFIX = "rk-"  # research kernel


def _short_temp_root() -> str:
    """The temporary directory, or ``/tmp`` when ``$TMPDIR`` is too long for socket paths."""
    root = tempfile.gettempdir()
    # <root>/rk-XXXXXXXX/k-NN
    if len(os.fsencode(root)) + len(_PREFIX) + 8 + 8 <= SOCKET_PATH_LIMIT:
        return root
    if os.path.isdir("/tmp") and os.access("/tmp", os.W_OK | os.X_OK):
        return "/tmp"
    return root  # nothing shorter available; the kernel will say what went wrong


@functools.cache
def ipc_kernel_manager() -> type:
    """A kernel manager class whose kernels listen on Unix sockets in a private folder.

    Each instance creates its own folder (mode 0700, e.g. ``/tmp/rk-k3j9x2ab``) the first time
    its connection address is needed, and removes it when the kernel's resources are cleaned up
    after shutdown. It is a :class:`jupyter_client.AsyncKernelManager`, the class nbclient
    uses by default. The same class is returned on every call.

    Returns
    -------
    type
        A subclass of :class:`jupyter_client.AsyncKernelManager` (on Windows, that class
        itself, which uses TCP).

    Examples
    --------
    >>> ipc_kernel_manager()().transport  # 'tcp' on Windows
    'ipc'
    """
    from jupyter_client import AsyncKernelManager
    from traitlets import default

    if sys.platform == "win32":
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):  # type: ignore[misc,valid-type]
        """AsyncKernelManager on ``ipc`` sockets in a private temporary folder."""

        _socket_dir: str | None = None

        @default("transport")
        def _transport_default(self) -> str:
            return "ipc"

        @default("ip")
        def _ip_default(self) -> str:
            # the kernel's sockets are <ip>-<n>: the ports are small integers
            folder = tempfile.mkdtemp(prefix=_PREFIX, dir=_short_temp_root())
            self._socket_dir = folder
            self._remove_folder = weakref.finalize(self, shutil.rmtree, folder, True)
            return os.path.join(folder, "k")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            # shutdown_kernel calls this one directly
            await super()._async_cleanup_resources(restart=restart)
            if not restart and self._socket_dir is not None:
                self._remove_folder()  # rmtree once; later calls do nothing

        # nbclient calls the public name, which the base class binds to its own coroutine
        cleanup_resources = _async_cleanup_resources

    return IPCKernelManager


def engine_kwargs() -> dict[str, Any]:
    """Keyword arguments for ``papermill.execute_notebook`` that start the kernel on IPC.

    Returns
    -------
    dict
        ``{"kernel_manager_class": ipc_kernel_manager()}``; papermill hands unknown keyword
        arguments to its engine, and the nbclient engine to ``nbclient.NotebookClient``.

    Examples
    --------
    >>> sorted(engine_kwargs())
    ['kernel_manager_class']
    """
    return {"kernel_manager_class": ipc_kernel_manager()}
