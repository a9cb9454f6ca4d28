# SPDX-License-Identifier: GPL-2.0-only
"""tests/lib/runner.py - the one runner of every Python test tier (local, xenstored, image).

A tier registers its tests in order with @test and ends with sys.exit(run(tier, sys.argv[1:])).
Each test prints one line, flushed at once; tests/run counts them:

    PASS <tier>/<name> (1.2 s)
    FAIL <tier>/<name>: <why>
    SKIP <tier>/<name>: <why>

A test passes by returning. It fails by raising: an AssertionError (from check, eq or fail) says
what was wrong; any other exception is a crash, named by its type. It skips by raising Skip(why).
The FAIL line carries the first line of the message (at most 300 characters) and the notes the
exception collected on its way out (note(); the xenstored tier's fixture adds the test's line and
where the daemon's log is); the whole message, and a crash's traceback, go to stderr.

A tier's scripts set sys.dont_write_bytecode before importing this, so that no __pycache__ appears
in the source tree.
"""

import sys
import time
import traceback

TESTS = []  # (name, function, when), in the order of registration


class Skip(Exception):
    """A test that cannot run here, and says why."""


def test(arg=None, *, when=None):
    """Registers a test. @test names it after its function; @test('name') names it explicitly
    (the image tier's names have dashes). `when`, a callable, is asked just before the test would
    run: if it returns false the test is left out of this run, without a line (the image tier's
    checks of an image it could not read, or of the other kind of kernel)."""
    def register(fn, name):
        TESTS.append((name, fn, when))
        return fn
    if callable(arg):
        return register(arg, arg.__name__)
    return lambda fn: register(fn, arg or fn.__name__)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want, what=''):
    if got != want:
        raise AssertionError('%s: got %r, expected %r' % (what, got, want))


def fail(why):
    raise AssertionError(why)


def note(exc, text):
    """Adds @text to what the FAIL line of @exc says (PEP 678's add_note, on any Python 3)."""
    if not hasattr(exc, '__notes__'):
        exc.__notes__ = []
    exc.__notes__.append(text)


def names():
    """The registered names, in order, each once."""
    return list(dict.fromkeys(name for name, _, _ in TESTS))


def why(exc):
    msg = str(exc)
    if not isinstance(exc, AssertionError):
        msg = '%s: %s' % (type(exc).__name__, msg) if msg else type(exc).__name__
    line = msg.split('\n')[0] or type(exc).__name__
    if len(line) > 300:
        line = line[:297] + '...'
    notes = getattr(exc, '__notes__', None)
    return line + (' (%s)' % '; '.join(notes) if notes else '')


def run(tier, argv=(), fixture=None):
    """Runs the registered tests (only those named in @argv, if any) and returns the exit status:
    0 if none failed. With a @fixture, each test runs inside `with fixture(name) as value` and is
    called with that value (the xenstored tier: a fresh daemon per test). `--list` prints the
    names instead."""
    if list(argv) == ['--list']:
        print('\n'.join(names()))
        return 0
    only = set(argv)
    unknown = only - set(names())
    if unknown:
        print('%s: no test named %s' % (tier, ', '.join(sorted(unknown))), file=sys.stderr)
        return 2
    failed = 0
    for name, fn, when in TESTS:
        if only and name not in only:
            continue
        if when is not None and not when():
            continue
        t0 = time.monotonic()
        try:
            if fixture is None:
                fn()
            else:
                with fixture(name) as value:
                    fn(value)
        except Skip as e:
            print('SKIP %s/%s: %s' % (tier, name, e), flush=True)
        except Exception as e:
            failed += 1
            print('FAIL %s/%s: %s' % (tier, name, why(e)), flush=True)
            print('    ' + str(e).replace('\n', '\n    '), file=sys.stderr)
            if not isinstance(e, AssertionError):
                traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
        else:
            print('PASS %s/%s (%.1f s)' % (tier, name, time.monotonic() - t0), flush=True)
    return 1 if failed else 0
