"""``scot merge``: join the outputs of ``--shard i/N`` runs into the whole run's table."""

from __future__ import annotations

import typer

from ._common import PARTITION_BY_OPT, epilog, info, output_option

EXAMPLE = "scot merge out/fc-0.parquet out/fc-1.parquet out/fc-2.parquet -o forecast.parquet"
PARTS_ARG = typer.Argument(
    ..., metavar="PART...", help="Shard outputs (Parquet files or dataset folders)."
)
OUT_OPT = output_option(
    "-o", "--output", help="Merged Parquet file, or folder/ (default stdout).", stdout=True
)


def merge(
    parts: list[str] = PARTS_ARG,
    out: str | None = OUT_OPT,
    partition_by: str | None = PARTITION_BY_OPT,
) -> None:
    """Join the outputs of --shard 0/N .. N-1/N into one table, after checking that they
    are the shards of one run (same command, parameters, seed and inputs), each once."""
    from scot_cli.engine.merge import merge_parts
    from scot_cli.io import write_stream
    from scot_cli.io.dataset import DatasetWriter, is_dataset_output

    run, extra, frames = merge_parts(parts)
    rows = 0
    if is_dataset_output(out, partition_by):
        assert out is not None
        with DatasetWriter(out, run.provenance(extra), partition_by=partition_by) as w:
            for i, frame in enumerate(frames):
                w.write(i, frame)
                rows += frame.height
            w.commit()
    else:
        rows = write_stream(run, frames, out, None, extra=extra)
    info(f"merge: {len(parts)} shards of {run.command}, {rows:,} rows -> {out or 'stdout'}")


def register(app: typer.Typer) -> None:
    app.command(
        "merge",
        help="Join the outputs of --shard runs into one table (provenance checked).",
        epilog=epilog(EXAMPLE, more="Shards and engines: docs/scale-out.md."),
    )(merge)
