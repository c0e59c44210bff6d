"""Time the default model's first load (GGUF de-quantized and cached) against later loads.

    python bench/model_load.py [--json]

Uses a fresh cache directory for the first load, then loads from it again in new processes.
"""

import json
import subprocess
import sys
import tempfile
import time

LOAD = "from botkit.models.loading import load_engine; load_engine('default', cache_dir=__import__('pathlib').Path(sys.argv[1]))"


def timed_load(cache: str) -> float:
    code = f"import sys, time; t = time.perf_counter(); {LOAD}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code, cache], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        first = timed_load(cache)
        later = [timed_load(cache) for _ in range(3)]
    result = {"first_load_s": round(first, 2), "cached_load_s": round(min(later), 2),
              "cached_load_runs_s": [round(x, 2) for x in later]}
    print(json.dumps(result) if "--json" in sys.argv else
          f"first load (convert + cache): {first:.1f} s; cached load: {min(later):.2f} s (best of 3)")


if __name__ == "__main__":
    main()
