"""Room hostile: the hostile-QEMU suite.

QEMU is the hostile side of the stubdomain: these tests will have it misbehave towards stubinit on
purpose. The room is empty for now (it registers no test); its suite is being written.
"""
