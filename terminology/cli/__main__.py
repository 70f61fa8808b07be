"""``python -m terminology.cli``: the same command line as the ``concordance`` script."""

from terminology.cli.main import run

run()
