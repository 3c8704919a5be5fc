"""Hardware in the loop: virtual motors that speak the real CAN bytes and answer from a MuJoCo plant.

- `VirtualMotorBank`: the drives of a hardware.yaml on a FrameLink, stepping a Simulator (virtual_motors.py);
- `FaultConfig`: fault injection on that bus, as a lossy or failing one would behave (faults.py).

This is the one robot-side package that imports the simulator; physai.drivers (what runs on the robot) does
not. motor_sim_node (physai.ros) runs it.
"""

from physai.hil.faults import FaultConfig, FaultConfigError
from physai.hil.virtual_motors import VirtualMotorBank

__all__ = ["FaultConfig", "FaultConfigError", "VirtualMotorBank"]
