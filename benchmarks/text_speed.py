"""Milliseconds a sentence for both shipped text models (issue 39's ≤ 20 ms target): transfer with selection of the
1,000 Yelp test sentences, model loaded, one warm-up, two timed passes; prints one line per pass.

    python benchmarks/text_speed.py [--threads 2]
"""
import argparse
import time
from pathlib import Path

import torch

from multistyle.core.runtime import cpu_bf16_support, cpu_name
from multistyle.text.bundle import load_model
from multistyle.text.evaluate import read_eval_set
from multistyle.text.transfer import SHIPPED_MODEL, transfer_sentences

WEIGHTS = Path(__file__).resolve().parents[1] / "multistyle" / "text" / "weights"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/yelp"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    test = read_eval_set(args.data)
    for name, folder in (("Style Transformer", WEIGHTS / "style_transformer"), ("cross-aligned", SHIPPED_MODEL)):
        model = load_model(folder)
        transfer_sentences(model, test.sources[0][:20], "negative", 1, select=True)
        for _ in range(2):
            start = time.perf_counter()
            for d in (0, 1):
                transfer_sentences(model, test.sources[d], ("positive", "negative")[d], 1, select=True)
            ms = 1000 * (time.perf_counter() - start) / sum(test.sizes)
            print(f"{name}: {ms:.1f} ms a sentence ({cpu_name()}, bf16 hardware {cpu_bf16_support()}, "
                  f"{args.threads} threads)")


if __name__ == "__main__":
    main()
