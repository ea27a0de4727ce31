# The lab's job processor: take one message from the queue with the job's managed identity, print it,
# complete it, exit. It reads only the three variables the job sets; nothing here knows about eventjobs.
import asyncio
import os

from azure.identity.aio import DefaultAzureCredential
from azure.servicebus.aio import ServiceBusClient

SERVICEBUS_FQDN = os.environ["SERVICEBUS_FQDN"]
SERVICEBUS_QUEUE_NAME = os.environ["SERVICEBUS_QUEUE_NAME"]
MANAGED_IDENTITY_CLIENT_ID = os.environ["MANAGED_IDENTITY_CLIENT_ID"]


async def main():
    print(f"SERVICEBUS_FQDN: {SERVICEBUS_FQDN}", flush=True)
    print(f"SERVICEBUS_QUEUE_NAME: {SERVICEBUS_QUEUE_NAME}", flush=True)
    print(f"MANAGED_IDENTITY_CLIENT_ID: {MANAGED_IDENTITY_CLIENT_ID}", flush=True)
    # DefaultAzureCredential tries its credentials in turn until one gives a token. Inside the job that is the
    # managed identity (on AKS, workload identity); exclude_cli_credential=False keeps your own `az login`
    # account, which is useful when running the python code from your local machine. Nothing else.
    credential = DefaultAzureCredential(
        exclude_environment_credential=True,
        exclude_shared_token_cache_credential=True,
        exclude_visual_studio_code_credential=True,
        exclude_powershell_credential=True,
        exclude_managed_identity_credential=False,
        exclude_cli_credential=False,
        managed_identity_client_id=MANAGED_IDENTITY_CLIENT_ID,
    )
    async with credential, ServiceBusClient(SERVICEBUS_FQDN, credential) as client:
        async with client.get_queue_receiver(queue_name=SERVICEBUS_QUEUE_NAME) as receiver:
            for message in await receiver.receive_messages(max_message_count=1, max_wait_time=5):
                print(f"Received: {message}", flush=True)
                await receiver.complete_message(message)
                print("Message completed", flush=True)


asyncio.run(main())
