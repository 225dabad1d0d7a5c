"""`make bench`: every scenario in turn, each printing its table and writing bench/results/<name>.json."""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = ["webhook_ingest", "webhook_process", "campaign_send", "lists", "analytics", "outgoing_webhooks",
             "contacts_import"]


def main() -> int:
    failed = []
    started = time.monotonic()
    for name in SCENARIOS:
        script = HERE / f"{name}.py"
        if not script.exists():
            print(f"[bench] {name}: not written yet")
            continue
        print(f"[bench] === {name} ===", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(name)
    print(f"[bench] done in {time.monotonic() - started:.0f}s; failed: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
