#!/bin/sh
# Every default the documentation states is the default the programs have: the compiled-in
# values (tests/packaging/config_defaults, through the parsers' own key tables) against
#   - the packaged templates packaging/etc/host.conf.in and lockboxd.conf.in ("#key = value"),
#   - lockbox.conf(5), entry by entry ("default X", "Defaults X, Y, Z"),
#   - the other man pages wherever a sentence names a key and a default,
# Each of those must also name every key; README.md and docs/ list no keys with defaults of
# their own (they point to the man pages). Any drift fails here.
. tests/support/tap.sh
BUILD=${BUILD:-build}
TOOL=$BUILD/tests/packaging/config_defaults
[ -x "$TOOL" ] || { fail "$TOOL not built"; tap_done; exit 1; }
work=$(mktemp -d /tmp/lbx-defaults.XXXXXX)
tap_cleanup "rm -rf $work"
"$TOOL" host >"$work/host" && "$TOOL" broker >"$work/broker" ||
    { fail "config_defaults runs"; tap_done; exit 1; }
# host_id's default is this host's short name: the documents say so in words.
python3 - "$work" "$(hostname | cut -d. -f1)" <<'PY' >"$work/tap"
import os, re, sys

work, shortname = sys.argv[1], sys.argv[2]
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Keys whose documented value is an example, not a default: no fixed default exists.
MODULE_ONLY = {"config"}  # a PAM module argument, never a file key

def compiled(name):
    out = {}
    for line in open(os.path.join(work, name)):
        k, _, v = line.rstrip("\n").partition(" = ")
        out[k] = v
    return out

def seconds(v):
    if re.fullmatch(r"\d+", v):
        return int(v)
    parts = re.findall(r"(\d+)([smhd])", v)
    if not parts or "".join(a + b for a, b in parts) != v:
        return None
    return sum(int(a) * UNITS[b] for a, b in parts)

BOOLS = {"yes": True, "true": True, "on": True, "1": True, "no": False, "false": False,
         "off": False, "0": False}

def same(default, doc):
    doc = doc.strip().strip("`\"'").rstrip(".:")
    if default in ("yes", "no"):
        return doc.lower() in BOOLS and BOOLS[doc.lower()] == (default == "yes")
    if re.fullmatch(r"\d+s", default):
        return seconds(doc) == int(default[:-1])
    return doc == default

n = 0
def check(ok, what):
    global n
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what))

def compare(source, conf, key, doc):
    d = conf[key]
    if key == "host_id":
        return
    if d == "":
        return  # no fixed default: the document shows an example
    check(same(d, doc), "%s: %s = %s (compiled: %s)" % (source, key, doc, d))

host, broker = compiled("host"), compiled("broker")
check(host["host_id"] == shortname, "host_id defaults to the short host name")

# --- templates -------------------------------------------------------------------------------
for path, conf in (("packaging/etc/host.conf.in", host), ("packaging/etc/lockboxd.conf.in", broker)):
    seen = set()
    for line in open(path):
        m = re.match(r"^(#?)\s*([a-z_]+)\s*=\s*(.*?)\s*$", line)
        if not m or m.group(2) not in conf:
            continue
        seen.add(m.group(2))
        if m.group(1):  # "#key = value": the built-in default
            compare(path, conf, m.group(2), m.group(3))
    missing = sorted(set(conf) - seen - MODULE_ONLY)
    check(not missing, "%s names every key%s" % (path, " (missing: %s)" % " ".join(missing) if missing else ""))

# --- man pages -------------------------------------------------------------------------------
def flatten(roff):
    """Text of roff source: font macros become their words, escapes go."""
    out = []
    for line in roff.split("\n"):
        m = re.match(r"^\.(B|I|BR|IR|RB|RI|BI|IB)\s+(.*)$", line)
        if m:
            words = re.findall(r'"([^"]*)"|(\S+)', m.group(2))
            line = "".join(a or b for a, b in words)
        elif line.startswith("."):
            line = "\n" + line
        out.append(line)
    text = " ".join(out)
    return re.sub(r"\\f[BIRP]|\\\(em|\\", "", text)

DEFAULT = re.compile(r"\bdefaults?:?\s+(?:is\s+)?([^\s,;()]+)", re.I)
DEFAULTS_LIST = re.compile(r"\bDefaults\s+([^;.]*?(?:,\s*[^,;]+?)+)\s*[.;]")

def conf_entries(roff, section):
    body = roff.split('.SH "%s"' % section, 1)[1].split("\n.SH ", 1)[0]
    for entry in body.split("\n.TP\n")[1:]:
        head, _, text = entry.partition("\n")
        keys = re.findall(r"[a-z_]+", re.sub(r'"[^"]*"', " ", head.split(None, 1)[1]))
        yield keys, flatten(text)

roff = open("packaging/man/lockbox.conf.5").read()
for section, conf in (("HOST.CONF", host), ("LOCKBOXD.CONF", broker)):
    seen = set()
    for keys, text in conf_entries(roff, section):
        keys = [k for k in keys if k in conf]
        seen.update(keys)
        lst = DEFAULTS_LIST.search(text)
        values = [v.strip() for v in lst.group(1).split(",")] if lst else DEFAULT.findall(text)
        values = [v for v in values if not v.lower() in ("the", "a", "an")]
        with_default = [k for k in keys if conf[k] != "" and k != "host_id"]
        check(len(values) == len(with_default),
              "lockbox.conf(5) %s: one default per key with a default (%s: %s)"
              % (section, " ".join(keys), " ".join(values) or "none"))
        for k, v in zip(with_default, values):
            compare("lockbox.conf(5)", conf, k, v)
    missing = sorted(set(conf) - seen - MODULE_ONLY)
    check(not missing, "lockbox.conf(5) %s names every key%s" % (section, " (missing: %s)" % " ".join(missing) if missing else ""))

# Other man pages: a clause that names exactly the keys it gives defaults for.
allkeys = dict(broker)
allkeys.update(host)  # "issuer" exists in both; the host's is lockbox, the broker's required
for page in sorted(os.listdir("packaging/man")):
    if page == "lockbox.conf.5":
        continue
    text = flatten(open(os.path.join("packaging/man", page)).read())
    for clause in re.split(r"[.;]\s|\n", text):
        values = DEFAULT.findall(clause)
        keys = [k for k in re.findall(r"\b[a-z][a-z_]*[a-z]\b", clause) if k in allkeys and "_" in k]
        if values and keys:
            check(len(keys) == len(values), "%s: a default for each key named in '%s'" % (page, clause.strip()[:80]))
            for k, v in zip(keys, values):
                compare(page, allkeys, k, v)

# --- README.md and docs/: the keys are documented once, in the man pages --------------------
import glob
for doc in ["README.md"] + sorted(glob.glob("docs/*.md")):
    text = open(doc).read()
    check("| key | default" not in text and "```ini" not in text,
          "%s lists no configuration keys with defaults (lockbox.conf(5) does)" % doc)
PY
cat "$work/tap"
TAP_N=$(grep -c '^\(not \)\?ok ' "$work/tap")
TAP_FAILED=$(grep -c '^not ok ' "$work/tap")
tap_done
