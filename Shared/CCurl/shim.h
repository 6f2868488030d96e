// libcurl from Debian's libcurl4-openssl-dev: its SMTP client (STARTTLS, AUTH) sends mail.
#include <curl/curl.h>
