"""Application layer of 枫桥助手: settings, bootstrap and the `fengqiao` console command."""
