# The README's commands. Every target creates .venv and installs pinned dependencies when needed.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.physai-installed
PYTEST_ARGS ?=

.PHONY: demo demo-balance test lint format bench colcon-check clean

$(STAMP): requirements.txt setup.py scripts/setup.sh src/physai/drivers/_cancore.c
	bash scripts/setup.sh $(VENV)
	touch $@

demo: $(STAMP)  ## main job: the shipped walking policy walks a scripted path on /cmd_vel through ROS 2 nodes
	rm -rf out/demo_bag out/demo.mp4
	$(VENV)/bin/physai launch sim robot:=testbed_biped policy:=policies/biped_walk/policy.onnx \
		teleop:=script:sim_envs/commands/walk_path.yaml mode:=realtime max_sim_time_s:=16 \
		record:=out/demo_bag video:=out/demo.mp4

demo-balance: $(STAMP)  ## the balance policy stands the biped under pushes through ROS 2 nodes
	rm -rf out/demo_balance_bag out/demo_balance.mp4
	$(VENV)/bin/physai launch sim robot:=testbed_biped policy:=policies/biped_balance/policy.onnx \
		mode:=realtime max_sim_time_s:=20 push_velocity_m_s:=0.3 record:=out/demo_balance_bag video:=out/demo_balance.mp4

test: $(STAMP)  ## the whole test suite (ruff, import layers, unit, sim, packaging)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, and the import layers of pyproject.toml (docs/architecture.md)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)  ## simulator benchmark (figures and ratios against raw mj_step, same run)
	$(VENV)/bin/physai bench sim --robot unitree_g1 --json out/bench_sim.json

colcon-check: $(STAMP)  ## build physai in a throwaway colcon workspace and check the install layout
	$(PY) -m pytest tests/unit/test_packaging.py

clean:
	rm -rf build install log out .pytest_cache
