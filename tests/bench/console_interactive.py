#!/usr/bin/python3
"""The console benchmark's browser half: signs USER in through the real provider (the console
test's Console class, headless Chromium), then loads the Pending page LOADS times and prints one
JSON object: the time from navigation start until the page is interactive (request cards shown
and an Approve button enabled), and the in-page duration of its /v1/requests fetch.

The moment is taken inside the page, not by polling from the driver: a MutationObserver,
installed before any of the page's scripts run on every load, stamps performance.now()
(milliseconds since navigation start) when the first enabled Approve button is in the document.

usage: console_interactive.py CONSOLE_URL USER PASSWORD LOADS
"""
import json
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "broker"))
from console_browser import Console  # noqa: E402

MARKER = """
(() => {
  const stamp = () => {
    if (window.__lbxInteractive) return;
    const b = document.querySelector('section.request button.approve');
    if (b && !b.disabled) window.__lbxInteractive = performance.now();
  };
  new MutationObserver(stamp).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""

FIGURES = """
const api = performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/v1/requests?status=pending'));
return [window.__lbxInteractive || null, api.length ? api[0].duration : null,
        document.querySelectorAll('section.request').length];
"""


def pick(values, q):
    v = sorted(values)
    return round(v[max(0, math.ceil(q * len(v)) - 1)], 1) if v else -1


def main():
    url, user, password, loads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    out = tempfile.mkdtemp(prefix="lbx-bench-console.")
    c = Console(url, out, "bench")
    interactive, fetches, cards = [], [], 0
    try:
        c.sign_in(user, password, "/#/pending")
        c.d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": MARKER})
        c.d.get(url + "/#/pending")
        for _ in range(loads):
            c.d.refresh()  # a new navigation each time: the whole page, its script and its call
            c.wait(lambda d: d.execute_script("return window.__lbxInteractive || null"))
            t, f, cards = c.d.execute_script(FIGURES)
            interactive.append(t)
            if f is not None:
                fetches.append(f)
    except Exception as e:  # the figures so far are void; say why on stderr
        print("console_interactive: %s" % e, file=sys.stderr)
        c.diagnose()
        sys.exit(1)
    finally:
        c.close()
        for f in os.listdir(out):
            os.unlink(os.path.join(out, f))
        os.rmdir(out)
    print(json.dumps({"loads": len(interactive), "cards": cards,
                      "p50_ms": pick(interactive, 0.5), "p95_ms": pick(interactive, 0.95),
                      "max_ms": pick(interactive, 1.0), "fetch_p95_ms": pick(fetches, 0.95)}))


if __name__ == "__main__":
    main()
