"""Create the platform's DKIM key and print the DNS record to publish."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engagex.delivery.dkim import dns_txt_record, generate_key_pair
from engagex.delivery.identifiers import ascii_domain


class Command(BaseCommand):
    help = "Write a new RSA DKIM private key (PEM) and print the TXT record for DNS."

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, help="the signing domain (d=)")
        parser.add_argument("--selector", default="engagex")
        parser.add_argument("--out", required=True, help="where to write the private key")
        parser.add_argument("--bits", type=int, default=2048)

    def handle(self, *args, domain, selector, out, bits, **options):
        path = Path(out)
        if path.exists():
            raise CommandError(f"{path} exists; refusing to overwrite a key in use.")
        try:
            domain = ascii_domain(domain)
            private_pem, public_b64 = generate_key_pair(bits)
        except ValueError as error:
            raise CommandError(str(error)) from error
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_bytes(private_pem)
        self.stdout.write(f"Private key written to {path} (keep it secret).\n")
        self.stdout.write(f"Publish this TXT record at {selector}._domainkey.{domain}:\n")
        self.stdout.write(dns_txt_record(public_b64) + "\n")
        self.stdout.write(
            f"Then set DKIM_DOMAIN={domain} DKIM_SELECTOR={selector} DKIM_PRIVATE_KEY_FILE={path}\n"
        )
