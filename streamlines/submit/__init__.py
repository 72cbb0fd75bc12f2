"""``streamlines jobs submit <job>``: a job of ``jobs.registry`` on the local Flink cluster, or
on its own mini-cluster."""
