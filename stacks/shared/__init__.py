"""What both the topology components and the controller build on: IAM as data, the one
Lambda function builder, assets, encrypted log groups, keys, and the per-region scope."""
