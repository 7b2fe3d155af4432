"""What HTTP providers share: one TLS context per process.

Building a TLS context loads the system CA bundle (about 17 ms here); doing it
for every client made client construction the largest per-review CPU cost.
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()
