// The arithmetic vocabulary (formats, rounding, LFSR draws) is part of what this target speaks.
@_exported import Arithmetic
