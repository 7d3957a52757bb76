# The ledger with its defaults (pattern 2, AWS_IAM, no access log), and one service role allowed two accounts.
# Build the package first: make package (in the ledger's folder).

provider "aws" {}

module "ledger" {
  source     = "../.."
  lambda_zip = var.lambda_zip
  # No access log: a fresh account lacks the CloudWatch role it needs. Set true where the account has
  # that role (docs/deploying.md).
  api = { access_log = false }
}

# A service that may read, post to and transfer out of acc-1 and acc-2, and nothing else.
resource "aws_iam_role" "checkout" {
  name = "checkout-ledger-client"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

module "checkout_access" {
  source = "../../modules/account_access"
  api    = module.ledger.api_access
  grants = [{ accounts = ["acc-1", "acc-2"], operations = ["read", "post", "transfer"] }]
}

resource "aws_iam_role_policy" "checkout_ledger" {
  name   = "ledger-accounts"
  role   = aws_iam_role.checkout.id
  policy = module.checkout_access.json
}
