"""Actuator drivers: pure protocol codecs (bytes in, bytes out) and, on top of them, buses and transports.

Codecs (no I/O, no python-can, no ROS):

* `physai.drivers.limits`: `MotorLimits` (per-model wire ranges), clamp-before-scale `float_to_uint` /
  `uint_to_float`, `CodecError`.
* `physai.drivers.frame`: `CanFrame`, a transport-neutral CAN frame.
* `physai.drivers.mit`: MIT-mode impedance commands (Mini Cheetah, CubeMars AK series).
* `physai.drivers.robstride`: Robstride RS0x / Xiaomi CyberGear private protocol (29-bit ids).
"""
