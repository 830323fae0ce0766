"""GAN Playground: `python app.py` opens it on http://127.0.0.1:7860 (also the Hugging Face Space's app_file).

Training shares the CPU with the web server, so before torch is imported: OpenMP workers must not spin
(OMP_WAIT_POLICY=PASSIVE) and training uses one thread on a 2-core machine (ganengine.device explains the
measurements). Settings come from environment variables (playground/settings.py; README "Limits and safety").
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import torch  # noqa: E402

from ganengine.device import configure_threads  # noqa: E402
from playground.app import Playground, build_demo, launch_kwargs  # noqa: E402


def main() -> None:
    configure_threads()
    torch.set_num_interop_threads(1)
    playground = Playground()
    playground.registry.start_reaper()
    demo = build_demo(playground)
    # api_open=False (Gradio's default on a Space): queued events cannot be called directly over /gradio_api/run/,
    # which would skip the queue's concurrency limits; gradio_client and the page use the queue.
    demo.queue(max_size=256, default_concurrency_limit=4, api_open=False)
    host = os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0" if playground.settings.public else "127.0.0.1")
    port = int(os.environ.get("GRADIO_SERVER_PORT", "7860"))
    demo.launch(server_name=host, server_port=port, **launch_kwargs(playground))


if __name__ == "__main__":
    main()
