# SPDX-License-Identifier: GPL-2.0-only
"""tests/lib/userenv.py - what the test tiers that run the project's own commands (make dist, a
package's build) share: the environment a user would have, and a file's SHA-256."""

import hashlib
import os

# What make check's make and tests/run put in the environment, which a user building from a
# checkout or a tarball would not have.
MAKE_CHECK_VARS = ('BUILD', 'SANITIZE', 'CHECK_ALL', 'FUZZ_SECONDS', 'MAKEFLAGS', 'MAKELEVEL',
                   'MFLAGS', 'MAKEOVERRIDES')


def user_env():
    """This environment without make check's variables."""
    env = dict(os.environ)
    for k in MAKE_CHECK_VARS:
        env.pop(k, None)
    return env


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()
