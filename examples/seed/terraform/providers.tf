# The lab "Autoscaling Jobs using KEDA and Service Bus" as a Terraform folder (the lab's resources and values, our
# own files). In Azure: az login, then terraform init / plan -out tfplan / apply tfplan. Here: eventjobs login,
# then npx eventjobs terraform init / plan -out tfplan / apply tfplan against a running `eventjobs up`
# (docs/terraform.md).
terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

provider "azurerm" {
  features {}
  # azurerm 4.x needs the subscription: export ARM_SUBSCRIPTION_ID=$(az account show --query id -o tsv)
  # (eventjobs reads no provider block)
}

# you: the developer principal of `eventjobs login` here, the `az login` account in Azure
data "azurerm_client_config" "current" {}
