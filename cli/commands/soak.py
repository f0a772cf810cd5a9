"""`bss soak`: synthetic customers live for days on a private time-skipping stack; the report's gates must be 0."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add `bss soak` to `app`."""

    @app.command("soak")
    def soak(customers: Annotated[int, typer.Option(min=1, max=5000, help="Synthetic customers to sign up.")] = 30,
             days: Annotated[int, typer.Option(min=1, max=400, help="Simulated days they live.")] = 14,
             seed: Annotated[int, typer.Option(help="Seed of every choice: the same seed replays the same run.")] = 1,
             chat: Annotated[bool, typer.Option("--chat", help="A third of them also talk to the agent "
                                                "(scripted model), with cross-customer probes.")] = False,
             out: Annotated[Path, typer.Option(help="Directory for soak.json, soak.md and soak.log.")] = Path("soak-report"),
             concurrency: Annotated[int, typer.Option(min=1, max=256, help="Customers acting at once.")] = 16,
             decline_share: Annotated[float, typer.Option(min=0, max=1, help="Share of customers whose card "
                                                          "declines at renewal (then renew explicitly).")] = 0.2,
             as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
             before_reconcile: Annotated[str | None, typer.Option(
                 hidden=True, help="module:function awaited with the database engine before the reconciliation "
                                   "(tests prove a gate fails).")] = None) -> None:
        """Sign N customers up through the API and live D days of business on a private time-skipping stack.

        They use data, voice and SMS (some to exhaustion), top up, buy day passes, change plans, renew (a
        share of cards decline, then an explicit renewal), open cases and terminate; with --chat some talk to
        the agent's customer profile. Nothing of your own stack is touched. The report reconciles money,
        balances, stranded orders, duplicate charges and (with --chat) trip-wire refusals and leaked
        identifiers; the command exits 1 when any gate is not 0.
        """
        import importlib

        from cli.output import console, err_console, print_json
        from cli.soak.report import build, render, write
        from cli.soak.run import Options

        hook = None
        if before_reconcile:
            module, _, name = before_reconcile.partition(":")
            hook = getattr(importlib.import_module(module), name)
        options = Options(customers=customers, days=days, seed=seed, chat=chat, decline_share=decline_share,
                          concurrency=concurrency, before_reconcile=hook)
        out.mkdir(parents=True, exist_ok=True)
        outcome = _run(options, out / "soak.log", err_console if as_json else console)
        report = build(outcome)
        as_json_path, as_md_path = write(report, out)
        if as_json:
            print_json(report)
        else:
            console.print(render(report))
            console.print(f"report: {as_md_path}  {as_json_path}  (log: {out / 'soak.log'})")
        if not report["passed"]:
            raise SystemExit(1)


def _run(options: Any, log_path: Path, console: Any) -> Any:
    """Run the soak with a progress bar; the stack's own logging goes to `log_path`, not the screen."""
    import logging
    import signal
    import warnings

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cli.soak.run import soak

    handler = logging.FileHandler(log_path, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.captureWarnings(True)
    with warnings.catch_warnings(), Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                             TimeElapsedColumn(), console=console, transient=True) as bar:
        warnings.simplefilter("default")
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        def interrupted(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt  # as Ctrl-C: the stack's finally blocks stop PostgreSQL and Temporal

        previous = signal.signal(signal.SIGTERM, interrupted)
        try:
            import uvloop  # the loop the API runs on in a stack

            return uvloop.run(soak(options, progress))
        except ImportError:
            import asyncio

            return asyncio.run(soak(options, progress))
        finally:
            signal.signal(signal.SIGTERM, previous)
            logging.captureWarnings(False)
            root.handlers[:], _ = saved[0], root.setLevel(saved[1])
            handler.close()
