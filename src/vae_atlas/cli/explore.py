"""``vae-atlas explore RUN [RUN ...]``: the interactive latent-space explorer in the browser.

Starts one local process (FastAPI + uvicorn) serving every run given, prints the URL and, with
``--open``, opens a browser. It listens on 127.0.0.1 only unless ``--host`` names another
address, which prints a warning: the explorer has no authentication.
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from pathlib import Path

from vae_atlas.cli.flags import add_level_flag, apply_level
from vae_atlas.cli.run_access import (
    add_run_data_arguments,
    data_access_from_args,
    device_from_args,
)

LOCALHOSTS = ("127.0.0.1", "localhost", "::1")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "explore",
        help="explore runs' latent spaces interactively in the browser",
        description="Serve an interactive explorer for one or more runs on this machine.",
    )
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directories")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free port)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; anything but 127.0.0.1 exposes the explorer to others",
    )
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument(
        "--max-points",
        type=int,
        default=None,
        help="show at most this many test images per run (default: all)",
    )
    p.add_argument(
        "--follow",
        action="store_true",
        help="while `vae-atlas train` writes a run, show each new epoch's weights as it lands "
        "(looks at the run's state.json once a second)",
    )
    add_level_flag(p)
    add_run_data_arguments(p)
    p.add_argument(
        "--export",
        type=Path,
        default=None,
        metavar="DIR",
        help="write a static explorer into DIR (opens from file:// or any static host) "
        "instead of serving",
    )
    p.set_defaults(handler=run_explore)


def run_explore(args: argparse.Namespace) -> int:
    import socket

    import uvicorn

    from vae_atlas.config import ConfigError
    from vae_atlas.explorer import create_app
    from vae_atlas.run import load_run

    if args.export is not None:
        return run_export(args)
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port={args.port} must be in 0..65535")
    check_max_points(args)
    if args.host not in LOCALHOSTS:
        print(
            f"warning: listening on {args.host}: anyone who can reach this address can use the "
            "explorer (it has no authentication)",
            file=sys.stderr,
        )
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
        # listening before the URL is printed: a browser (or --open) that connects while uvicorn
        # is still starting waits in the backlog instead of being refused
        sock.listen()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror}); try another --port"
        ) from None
    port = sock.getsockname()[1]
    try:
        runs = [
            load_run(path, device=device_from_args(args), data=data_access_from_args(args))
            for path in args.runs
        ]
        apply_level([r.model for r in runs], args.level, [str(p) for p in args.runs])
        print(f"preparing {len(runs)} run(s): encoding the test images ...", flush=True)
        app = create_app(
            runs, max_points=args.max_points, host=args.host, port=port, follow_runs=args.follow
        )
    except BaseException:
        sock.close()
        raise
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{port}/"
    print(f"explorer: {url}   (Ctrl+C to stop)", flush=True)
    if args.open:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def check_max_points(args: argparse.Namespace) -> None:
    from vae_atlas.config import ConfigError

    if args.max_points is not None and args.max_points < 1:
        raise ConfigError(f"--max-points={args.max_points} must be >= 1")


def run_export(args: argparse.Namespace) -> int:
    """``--export DIR``: the static explorer of every run, written into DIR."""
    from vae_atlas.config import ConfigError
    from vae_atlas.explorer.app import unique_id
    from vae_atlas.explorer.state import ExplorerRun
    from vae_atlas.explorer.static_export import ExportError, check_folder, export_static
    from vae_atlas.run import load_run

    check_max_points(args)
    try:
        check_folder(args.export)  # before the slow part: encoding every run
    except ExportError as exc:
        raise ConfigError(str(exc)) from None
    device, access = device_from_args(args), data_access_from_args(args)
    runs = [load_run(path, device=device, data=access) for path in args.runs]
    apply_level([r.model for r in runs], args.level, [str(p) for p in args.runs])
    print(f"preparing {len(runs)} run(s): encoding the test images ...", flush=True)
    shown: dict[str, ExplorerRun] = {}
    for run in runs:
        run_id = unique_id(run.name, shown)
        shown[run_id] = ExplorerRun.from_run(run, run_id=run_id, max_points=args.max_points)
    try:
        done = export_static(list(shown.values()), args.export)
    except ExportError as exc:
        raise ConfigError(str(exc)) from None
    sizes = ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in done.sizes.items())
    print(
        f"static explorer: {done.folder / 'index.html'}  ({sizes}; {done.total_bytes / 1e6:.2f} MB)"
    )
    if done.note:
        print(f"note: {done.note}")
    return 0
