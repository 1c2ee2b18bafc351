"""``python -m bot``: the command line of :mod:`bot.cli`.

Why this module is apart: a start imports some thousand modules (aiohttp, botbuilder, msrest, msal and
ours), which allocate hundreds of thousands of objects and free almost none; the collector's passes over
them during the imports are wasted work on the way to answering. So the collector waits until the
imports are done (``bot.sdk.gc_tuning`` then sets how often it runs for the rest of the process).
"""

import gc
import logging
import sys

if __name__ == "__main__":
    gc.disable()
    try:
        from bot.cli import main
    finally:
        gc.enable()
    logging.captureWarnings(True)
    sys.exit(main())
