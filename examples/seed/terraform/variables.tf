variable "location" {
  description = "Azure region"
  default     = "westeurope"
}

variable "prefix" {
  description = "resource group name prefix"
  default     = "rg-aca-jobs"
}

variable "image_name" {
  description = "the processor's image (job-ts: the same processor in TypeScript, with app_dir = \"../app-ts\")"
  default     = "job-python"
}

variable "image_tag" {
  default = "1.0.0"
}

variable "app_dir" {
  description = "the processor's build context, relative to this folder"
  default     = "../app"
}

locals {
  resource_group_name = "${var.prefix}-lab"
  image               = "${var.image_name}:${var.image_tag}"
}
