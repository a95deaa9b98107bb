"""placeholder"""


def build_comparison(*a, **k):
    raise NotImplementedError
