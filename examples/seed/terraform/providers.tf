# The lab "Autoscaling Jobs using KEDA and Service Bus" as a Terraform folder. In Azure: terraform init/plan/apply.
# Here: npx eventjobs terraform init|plan|apply against a running `eventjobs up` (docs/terraform.md).
terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0"
    }
  }
}

provider "azurerm" {
  features {}
}

data "azurerm_client_config" "current" {}
