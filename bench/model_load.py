"""Time the default model's loads: on transformers the first load (GGUF de-quantized and cached)
against later loads; on llama.cpp the GGUF itself (nothing to convert).

    python bench/model_load.py [--json]

Uses a fresh cache directory for the first load, then loads from it again in new processes.
"""

import importlib.util
import json
import subprocess
import sys
import tempfile

# Imports (torch, transformers) are timed apart from the load itself: they are paid once per
# process whatever the model.
CODE = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
import torch, transformers
from botkit.models.loading import load_engine
t1 = time.perf_counter()
load_engine("default", cache_dir=Path(sys.argv[1]), engine=sys.argv[2])
print(t1 - t0, time.perf_counter() - t1)
"""


def timed_load(cache: str, engine: str = "transformers") -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CODE, cache, engine], capture_output=True, text=True, check=True)
    imports, load = out.stdout.strip().splitlines()[-1].split()
    return float(imports), float(load)


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        _, first = timed_load(cache)
        later = [timed_load(cache) for _ in range(3)]
        llama = [timed_load(cache, "llamacpp")[1] for _ in range(3)] if importlib.util.find_spec("llama_cpp") else []
    loads = [load for _, load in later]
    result = {"first_load_s": round(first, 2), "cached_load_s": round(min(loads), 2),
              "cached_load_runs_s": [round(x, 2) for x in loads],
              "imports_s": round(min(i for i, _ in later), 2)}
    if llama:
        result["llamacpp_load_s"] = round(min(llama), 2)
    print(json.dumps(result) if "--json" in sys.argv else
          f"transformers: first load (convert + cache): {first:.1f} s; cached load: {min(loads):.2f} s (best of 3); "
          f"importing torch + transformers first: {result['imports_s']:.1f} s"
          + (f"; llama.cpp (the GGUF as is): {result['llamacpp_load_s']:.2f} s" if "llamacpp_load_s" in result else ""))


if __name__ == "__main__":
    main()
