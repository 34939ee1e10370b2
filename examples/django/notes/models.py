from django.db import models


class Note(models.Model):
    """A note with an attached file: adding one in the admin is a multipart upload."""

    title = models.CharField(max_length=200)
    attachment = models.FileField(upload_to="attachments/", blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
