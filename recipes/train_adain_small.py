"""Distil the small AdaIN from the full one (issue 41; multistyle.image.train_small): compress, then fine-tune.

    python recipes/train_adain_small.py --out out/adain_small [--set key=value ...] [--max-minutes M]
    python recipes/train_adain_small.py --out out/adain_small --resume [--max-minutes M]

The default corpus, out/adain_corpus, is built first when missing (recipes/build_adain_corpus.py, from ../shared).
Ctrl-C saves a checkpoint; --resume continues it. Writes OUT/model.safetensors (the weights' moving average),
OUT/compressed.safetensors (before fine-tuning), log.jsonl, loss.png and summary.json.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import torch

from multistyle.core.run import run_config
from multistyle.errors import Interrupted, MultistyleError
from multistyle.image.train_small import RESUMABLE, SmallTrainConfig, train


def build_default_corpus(config: SmallTrainConfig) -> None:
    """The shell recipes' first step: out/adain_corpus from ../shared when the config reads it and it is missing."""
    corpus = Path("out/adain_corpus")
    reads_it = any(Path(d).is_relative_to(corpus) for d in (*config.content_dirs, *config.style_dirs))
    if reads_it and not (corpus / "content").is_dir():
        built = subprocess.run([sys.executable, str(Path(__file__).with_name("build_adain_corpus.py")), str(corpus)])
        if built.returncode:
            raise MultistyleError(f"building {corpus} failed (its error is above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="SmallTrainConfig key=value")
    parser.add_argument("--max-minutes", type=float)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    try:
        config = run_config(SmallTrainConfig, args.out, args.resume, RESUMABLE, None, args.set, max_minutes=args.max_minutes)
        build_default_corpus(config)
        summary = train(config, args.out, resume=args.resume, show_progress=sys.stderr.isatty())
    except Interrupted as e:  # Ctrl-C or SIGTERM: saved, not an error
        print(e, file=sys.stderr)
        sys.exit(e.exit_code)
    except MultistyleError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    print(f"wrote {args.out}/model.safetensors ({summary['iterations']} iterations; losses {summary['final_losses']})")


if __name__ == "__main__":
    main()
