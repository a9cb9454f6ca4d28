# SPDX-License-Identifier: GPL-2.0-only
"""The local tier's rooms, one module each; tests/local/run imports them in order and runs them.

common.py is what they share. A room registers its tests with tests/lib/runner.py's @test, in
the order they run.
"""
