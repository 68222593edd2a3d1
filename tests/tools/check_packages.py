#!/usr/bin/python3
"""Fails naming every Debian package that the build or the tests use but that
scripts/setup does not install (directly or as a dependency of what it
installs), so a tool installed by hand on one machine cannot hide a fresh
machine's failure.

What "used" means, each found from the checkout and its build folders:
  - every file CMake found (FILEPATH entries and library lists in CMakeCache.txt);
  - every shared library the built executables load (ldd);
  - every command the scripts and tests run (command positions in shell
    scripts and in the C tests' command strings), resolved on the system PATH;
  - every absolute system path the scripts and tests name;
  - every Python module the tests' Python scripts import.

  check_packages.py SOURCE_DIR BUILD_DIR [BUILD_DIR ...]
BUSLINE_BUILD_DIRS (folders separated by ':') adds build folders. A build folder that does not exist is skipped (the suite configures them all
first). Exits 0 when everything is covered, 1 listing what is not, 2 when the
check itself cannot run (no dpkg).
"""
import os
import re
import shutil
import subprocess
import sys

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SHELL_WORDS = {"then", "do", "else", "elif", "if", "while", "until", "exec", "!", "nohup", "setsid",
               "command", "env", "time", "sudo", "xargs"}


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def installed_packages():
    """Maps each installed package to (dependency names, provided names, essential)."""
    fmt = "${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t${Provides}\t${Essential}\n"
    out = run(["dpkg-query", "-W", "-f", fmt]).stdout
    pkgs = {}
    for line in out.splitlines():
        name, status, deps, provides, essential = (line.split("\t") + [""] * 5)[:5]
        if "install ok installed" not in status:
            continue
        dep_names = set()
        for clause in deps.split(","):
            for alt in clause.split("|"):
                alt = alt.strip().split(" ")[0].split(":")[0]
                if alt:
                    dep_names.add(alt)
        provided = {p.strip().split(" ")[0] for p in provides.split(",") if p.strip()}
        pkgs[name] = (dep_names, provided, essential == "yes")
    return pkgs


def closure(roots, pkgs):
    """Every installed package reachable from roots through Depends/Pre-Depends."""
    providers = {}
    for name, (_, provided, _) in pkgs.items():
        for p in provided:
            providers.setdefault(p, set()).add(name)
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        for real in ({name} if name in pkgs else set()) | providers.get(name, set()):
            if real not in seen:
                seen.add(real)
                todo.extend(pkgs[real][0])
    return seen


def path_forms(path):
    """The spellings dpkg may know a path by: as given, resolved, across merged /usr."""
    forms = {path, os.path.realpath(path)}
    for p in list(forms):
        if p.startswith("/usr/"):
            forms.add(p[4:])
        elif p.startswith(("/bin/", "/sbin/", "/lib")):
            forms.add("/usr" + p)
    return forms


def owners_of(paths):
    """Maps each path to the packages that own it, in one dpkg-query call."""
    forms = {p: path_forms(p) for p in paths}
    every = sorted(set().union(*forms.values())) if forms else []
    owned = {}
    for i in range(0, len(every), 500):
        res = run(["dpkg-query", "-S"] + every[i:i + 500])
        for line in res.stdout.splitlines():
            if line.startswith("diversion "):
                continue
            names, _, path = line.partition(": ")
            owned.setdefault(path.strip(), set()).update(n.strip().split(":")[0] for n in names.split(","))
    return {p: set().union(*(owned.get(f, set()) for f in fs)) for p, fs in forms.items()}


# CMake probes these binutils in a preferred order (llvm-ar before ar, ...)
# and takes the first it finds; none is required, GNU binutils always answer.
CMAKE_OPTIONAL_TOOLS = re.compile(
    r"^CMAKE_(C_COMPILER_)?(AR|RANLIB|NM|OBJCOPY|OBJDUMP|READELF|STRIP|ADDR2LINE|DLLTOOL|LINKER)$")


def cmake_found(build):
    """Absolute file paths CMake found for a build folder."""
    cache = os.path.join(build, "CMakeCache.txt")
    paths = set()
    if not os.path.exists(cache):
        return paths
    for line in open(cache, encoding="utf-8", errors="replace"):
        m = re.match(r"^([A-Za-z0-9_.-]+):(FILEPATH|PATH|STRING|INTERNAL)=(.*)$", line.rstrip("\n"))
        if not m or CMAKE_OPTIONAL_TOOLS.match(m.group(1)) or (m.group(2) in ("STRING", "INTERNAL") and not m.group(1).endswith(("LINK_LIBRARIES", "EXECUTABLE"))):
            continue
        for item in m.group(3).split(";"):
            if item.startswith("/") and os.path.isfile(item):
                paths.add(item)
    return paths


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def loaded_libraries(build):
    """Shared libraries the executables directly in a build folder load."""
    libs = set()
    if not os.path.isdir(build):
        return libs
    for name in os.listdir(build):
        exe = os.path.join(build, name)
        if not (os.path.isfile(exe) and os.access(exe, os.X_OK) and is_elf(exe)):
            continue
        for line in run(["ldd", exe]).stdout.splitlines():
            m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)", line)
            if m:
                libs.add(m.group(1))
    return libs


def project_files(src):
    skip = {".git", "node_modules", ".local"}
    for top in ("scripts", "tests", ".ci"):
        for dirpath, dirnames, filenames in os.walk(os.path.join(src, top)):
            dirnames[:] = [d for d in dirnames if d not in skip]
            for f in filenames:
                yield os.path.join(dirpath, f)


def shell_commands(text):
    """Words at command positions of a shell text (heuristic, generous)."""
    words = set()
    for line in text.splitlines():
        line = line.split(" #")[0]
        if line.lstrip().startswith("#"):
            continue
        for part in re.split(r"\|\||&&|[|;(`]|\$\(", line):
            tokens = part.strip().split()
            while tokens and (tokens[0] in SHELL_WORDS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0])):
                tokens.pop(0)
            if tokens and re.match(r"^[a-z][a-z0-9_.+-]*$", tokens[0]):
                words.add(tokens[0])
    return words


COMMAND_CALL = re.compile(r"(?:snprintf\s*\(\s*\w*cmd\w*\s*,|\b(?:system|popen)\s*\()")


def c_command_strings(text):
    """Words at command positions of the shell commands a C file builds
    (snprintf into a cmd buffer, or a literal given to system/popen)."""
    words = set()
    for m in COMMAND_CALL.finditer(text):
        end = text.find(");", m.end())
        call = text[m.end():end if end > 0 else len(text)]
        joined = "".join(re.findall(r'"((?:[^"\\\n]|\\.)*)"', call))
        words |= shell_commands(joined)
    return words


def python_imports(path):
    mods = set()
    for line in open(path, encoding="utf-8", errors="replace"):
        m = re.match(r"^\s*(?:from\s+([A-Za-z0-9_]+)|import\s+([A-Za-z0-9_]+))", line)
        if m:
            mods.add(m.group(1) or m.group(2))
    return mods


def module_files(mods):
    """Origins of the modules as Debian's python3 finds them (builtins have none)."""
    code = ("import importlib.util, sys\n"
            "for m in sys.argv[1:]:\n"
            "    s = importlib.util.find_spec(m)\n"
            "    print(m, s.origin if s and s.origin and s.origin.startswith('/') else ('-' if s else '?'))\n")
    res = run(["/usr/bin/python3", "-c", code] + sorted(mods))
    out = {}
    for line in res.stdout.splitlines():
        m, _, origin = line.partition(" ")
        out[m] = origin
    return out


def main(argv):
    if len(argv) < 3:
        print("usage: check_packages.py SOURCE_DIR BUILD_DIR [BUILD_DIR ...]", file=sys.stderr)
        return 2
    if not shutil.which("dpkg-query"):
        print("check_packages: dpkg-query missing; this check needs a Debian machine", file=sys.stderr)
        return 2
    src, builds = argv[1], argv[2:]
    builds += [b for b in os.environ.get("BUSLINE_BUILD_DIRS", "").split(":") if b]
    setup = os.path.join(src, "scripts", "setup")
    listed = run([setup, "--list"]).stdout.split()
    fallbacks = {}
    for line in run([setup, "--fallbacks"]).stdout.splitlines():
        cmd, _, pkgs = line.partition("=")
        fallbacks[cmd] = pkgs.split()
    if not listed:
        print("check_packages: scripts/setup --list printed nothing", file=sys.stderr)
        return 2

    pkgs = installed_packages()
    covered = closure(listed + [p for ps in fallbacks.values() for p in ps], pkgs)
    covered |= closure([n for n, (_, _, ess) in pkgs.items() if ess], pkgs)

    uses = {}  # path -> why it is used

    def use(path, why):
        uses.setdefault(path, why)

    for b in builds:
        for p in cmake_found(b):
            use(p, "found by CMake in " + os.path.basename(b))
        for p in loaded_libraries(b):
            use(p, "loaded by the executables of " + os.path.basename(b))
    py_mods = {}
    for f in project_files(src):
        rel = os.path.relpath(f, src)
        if os.path.abspath(f) == os.path.abspath(__file__):
            continue
        try:
            text = open(f, encoding="utf-8", errors="strict").read()
        except (UnicodeDecodeError, OSError):
            continue
        is_shell = f.endswith(".sh") or text.startswith(("#!/usr/bin/env bash", "#!/bin/"))
        cmds = shell_commands(text) if is_shell else c_command_strings(text) if f.endswith(".c") else set()
        for c in cmds:
            found = shutil.which(c, path=SYSTEM_PATH)
            # A fallback command may come from anywhere: setup installs it only when missing.
            if found and c not in fallbacks:
                use(found, "run by " + rel)
        for p in re.findall(r"(?<![\w.$%{}/-])(/(?:usr|bin|sbin|lib|opt)/[A-Za-z0-9_./+-]*[A-Za-z0-9_+-])", text):
            if os.path.isfile(p):
                use(p, "named by " + rel)
        if f.endswith(".py"):
            for m in python_imports(f):
                py_mods.setdefault(m, rel)
    missing = []
    for m, origin in module_files(py_mods).items():
        if origin == "?":
            missing.append(f"python module {m} (imported by {py_mods[m]}) is not installed")
        elif origin != "-":
            use(origin, f"python module {m} imported by {py_mods[m]}")

    problems = missing
    own = owners_of(list(uses))
    src_real = os.path.realpath(src) + os.sep
    for path, why in sorted(uses.items()):
        if os.path.realpath(path).startswith(src_real):
            continue
        if not own[path]:
            problems.append(f"{path} ({why}) belongs to no Debian package: install it from one in scripts/setup")
        elif not own[path] & covered:
            problems.append(f"{path} ({why}) comes from {', '.join(sorted(own[path]))}, "
                            "which scripts/setup does not install")
    print(f"check_packages: {len(uses)} files checked against the {len(listed)} packages of scripts/setup "
          f"({len(covered)} with their dependencies)")
    for p in problems:
        print("  MISSING FROM scripts/setup: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
