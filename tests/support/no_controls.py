#!/usr/bin/python3
"""Reads bytes on stdin; exits 1 (naming the first offence) when they hold anything a terminal
would act on: a C0 control other than newline (and tab with --tab), DEL, a C1 control
(U+0080..U+009F), a Unicode bidirectional formatting character or line/paragraph separator,
or bytes that are not UTF-8. For tests of what lockboxctl prints.

usage: no_controls.py [--tab] < OUTPUT
"""
import sys

BIDI = {0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        0x2066, 0x2067, 0x2068, 0x2069}


def main():
    allowed = {0x0A} | ({0x09} if "--tab" in sys.argv[1:] else set())
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        print("invalid UTF-8 at byte %d" % e.start, file=sys.stderr)
        return 1
    for i, ch in enumerate(text):
        c = ord(ch)
        if (c < 0x20 and c not in allowed) or 0x7F <= c <= 0x9F or c in BIDI:
            print("U+%04X at character %d: %r" % (c, i, text[max(0, i - 20):i + 20]),
                  file=sys.stderr)
            return 1
    return 0


sys.exit(main())
