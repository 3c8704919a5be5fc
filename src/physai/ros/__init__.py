"""ROS 2 edge (the only package that imports rclpy): nodes, message conversions, QoS, parameters.

Nodes stay thin: declare parameters, convert messages, call the core (physai.sim, physai.control,
physai.contract, physai.policy.inference, physai.record).
"""
