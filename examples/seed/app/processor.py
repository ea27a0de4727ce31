# The lab's job processor: take one message from the queue with the job's managed identity, print it,
# complete it, exit. It reads only the three variables the job sets; nothing here knows about eventjobs.
import os

from azure.identity import DefaultAzureCredential
from azure.servicebus import ServiceBusClient

fqdn = os.environ["SERVICEBUS_FQDN"]
queue_name = os.environ["SERVICEBUS_QUEUE_NAME"]
client_id = os.environ["MANAGED_IDENTITY_CLIENT_ID"]

# Managed identity inside the job; Azure CLI when run from a developer's machine. Nothing else.
credential = DefaultAzureCredential(
    managed_identity_client_id=client_id,
    exclude_environment_credential=True,
    exclude_shared_token_cache_credential=True,
    exclude_visual_studio_code_credential=True,
    exclude_powershell_credential=True,
    exclude_interactive_browser_credential=True,
)

with ServiceBusClient(fully_qualified_namespace=fqdn, credential=credential) as client:
    with client.get_queue_receiver(queue_name=queue_name) as receiver:
        for message in receiver.receive_messages(max_message_count=1, max_wait_time=5):
            print(f"Received: {message}", flush=True)
            receiver.complete_message(message)
            print("Message completed", flush=True)
