# Per-account access with AWS_IAM: the identity policy that lets a principal invoke the ledger's routes
# of the accounts it holds, and no other. execute-api resource ARNs name the method and the path with the
# account in it: arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/accounts/<accountId>/...
# https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
# Account ids are checked against the API's own id pattern, so no ARN here holds a wildcard.
# Pure: no provider, nothing created. Attach the json output to a role (aws_iam_role_policy) or a policy.
locals {
  # The API's account id pattern, from the one file of id patterns (the module is always taken with the
  # repository around it: a subdirectory source downloads the whole repository).
  account_id = jsondecode(file("${path.module}/../../lambda_src/ledger_aggregator/ids.json")).accountId
  resources = sort(distinct(flatten([
    for grant in var.grants : [
      for operation in grant.operations : [
        for route in var.api.routes[operation] : [
          for account in grant.accounts : "${var.api.execution_arn}/${var.api.stage_name}/${replace(route, "{accountId}", account)}"
        ]
      ]
    ]
  ])))
  document = {
    Version = "2012-10-17"
    Statement = [{
      Sid      = var.sid
      Effect   = "Allow"
      Action   = "execute-api:Invoke"
      Resource = local.resources
    }]
  }
}
