#!/bin/sh
# Runs on every node of the job. AWS Batch tells each node its index and the main node's address.
set -e
if [ "$AWS_BATCH_JOB_NODE_INDEX" != "$AWS_BATCH_JOB_MAIN_NODE_INDEX" ]; then
  echo "node $AWS_BATCH_JOB_NODE_INDEX: waiting for the main node ($AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS)"
  exec /usr/sbin/sshd -D
fi
nodes=$AWS_BATCH_JOB_NUM_NODES
echo "main node: running on $nodes nodes"
mpirun --allow-run-as-root -np $((nodes * MPI_PROCESSES_PER_NODE)) --hostfile /etc/mpi-hosts \
  /opt/mpi-hello > "$TMP_OUTPUT_DIR/mpi-hello.txt"
cat "$TMP_OUTPUT_DIR/mpi-hello.txt"
