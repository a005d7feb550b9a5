{{/*
The Apache httpd front (official httpd image), run as uid 33 on 8080 with a read-only root:
static files from the shared web root, PHP through mod_proxy_fcgi to FPM on 127.0.0.1:9000.
Nextcloud's own .htaccess files add its rewrites and headers (AllowOverride All).
*/}}
{{- define "nextcloud.httpdConf" -}}
# Written by the chartgen nextcloud chart; replaces the image's httpd.conf.
ServerRoot "/usr/local/apache2"
Listen 8080
# Redirects Apache builds (Nextcloud's .htaccess: /.well-known/caldav, carddav...; a missing
# slash) name the URL clients use, with the scheme of the router in front, never this
# container's http on 8080.
ServerName {{ printf "%s://%s" .Values.nextcloud.overwriteProtocol .Values.nextcloud.host }}
UseCanonicalName On
DefaultRuntimeDir /tmp
PidFile /tmp/httpd.pid

LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule authz_host_module modules/mod_authz_host.so
LoadModule unixd_module modules/mod_unixd.so
LoadModule log_config_module modules/mod_log_config.so
LoadModule mime_module modules/mod_mime.so
LoadModule dir_module modules/mod_dir.so
LoadModule alias_module modules/mod_alias.so
LoadModule rewrite_module modules/mod_rewrite.so
LoadModule headers_module modules/mod_headers.so
LoadModule env_module modules/mod_env.so
LoadModule setenvif_module modules/mod_setenvif.so
LoadModule expires_module modules/mod_expires.so
LoadModule proxy_module modules/mod_proxy.so
LoadModule proxy_fcgi_module modules/mod_proxy_fcgi.so

# Started as uid 33 (www-data): no user switch happens, these only name the owner.
User www-data
Group www-data

ServerTokens Prod
ServerSignature Off
TraceEnable Off
Timeout 3600
KeepAlive On
# PHP limits the body (upload_max_filesize); Apache does not cut it first.
LimitRequestBody 0

StartServers 1
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100

ErrorLog /proc/self/fd/2
LogLevel warn
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog /proc/self/fd/1 combined

TypesConfig conf/mime.types
AddType text/javascript .mjs
AddType application/wasm .wasm

DocumentRoot "/var/www/html"
DirectoryIndex index.php index.html

<Directory />
    AllowOverride None
    Require all denied
</Directory>

<Directory "/var/www/html">
    Options FollowSymLinks
    AllowOverride All
    Require all granted
    # WebDAV clients authenticate with the Authorization header: hand it to PHP.
    CGIPassAuth On
</Directory>

# Never served, whatever the .htaccess files say.
<DirectoryMatch "^/var/www/html/(build|tests|config|lib|3rdparty|templates|data)(/|$)">
    Require all denied
</DirectoryMatch>
<FilesMatch "^\.(ht|user\.ini)">
    Require all denied
</FilesMatch>

<FilesMatch "\.php$">
    SetHandler "proxy:fcgi://127.0.0.1:9000"
</FilesMatch>
<Proxy "fcgi://127.0.0.1:9000">
    ProxySet timeout=3600
</Proxy>
{{- end }}

{{/*
The nginx front (nginx-unprivileged): the server block of Nextcloud's admin manual ("nginx
configuration"), listening on 8080, with temporary files and the pid under /tmp.
*/}}
{{- define "nextcloud.nginxConf" -}}
# Written by the chartgen nextcloud chart; replaces the image's nginx.conf.
worker_processes 2;
pid /tmp/nginx.pid;
error_log /dev/stderr warn;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    # Nextcloud's JavaScript modules (mime.types lacks .mjs).
    types {
        text/javascript mjs;
    }

    access_log /dev/stdout;
    server_tokens off;
    sendfile on;
    keepalive_timeout 65;

    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;

    upstream php-handler {
        server 127.0.0.1:9000;
    }

    # Versioned assets (`?v=...`) never change: let browsers keep them.
    map $arg_v $asset_immutable {
        "" "";
        default ", immutable";
    }

    server {
        listen 8080 default_server;
        server_name _;
        root /var/www/html;
        # Redirects keep the client's scheme and host (a relative Location), never this
        # container's http on 8080 behind the router.
        absolute_redirect off;

        client_max_body_size {{ .Values.php.uploadLimit }};
        client_body_timeout 300s;
        fastcgi_buffers 64 4K;

        gzip on;
        gzip_vary on;
        gzip_comp_level 4;
        gzip_min_length 256;
        gzip_proxied expired no-cache no-store private no_last_modified no_etag auth;
        gzip_types application/atom+xml text/javascript application/javascript application/json application/ld+json application/manifest+json application/rss+xml application/vnd.geo+json application/vnd.ms-fontobject application/wasm application/x-font-ttf application/x-web-app-manifest+json application/xhtml+xml application/xml font/opentype image/bmp image/svg+xml image/x-icon text/cache-manifest text/css text/plain text/vcard text/vnd.rim.location.xloc text/vtt text/x-component text/x-cross-domain-policy;

        client_body_buffer_size 512k;

        add_header Referrer-Policy "no-referrer" always;
        add_header X-Content-Type-Options "nosniff" always;
        add_header X-Frame-Options "SAMEORIGIN" always;
        add_header X-Permitted-Cross-Domain-Policies "none" always;
        add_header X-Robots-Tag "noindex, nofollow" always;
        add_header X-XSS-Protection "1; mode=block" always;

        fastcgi_hide_header X-Powered-By;

        index index.php index.html /index.php$request_uri;

        # WebDAV clients of old Windows versions ask for / first.
        location = / {
            if ( $http_user_agent ~ ^DavClnt ) {
                return 302 /remote.php/webdav/$is_args$args;
            }
        }

        location = /robots.txt {
            allow all;
            log_not_found off;
            access_log off;
        }

        # Service discovery (CalDAV, CardDAV) and the rest of /.well-known go to Nextcloud.
        location ^~ /.well-known {
            location = /.well-known/carddav { return 301 /remote.php/dav/; }
            location = /.well-known/caldav  { return 301 /remote.php/dav/; }
            location /.well-known/acme-challenge    { try_files $uri $uri/ =404; }
            location /.well-known/pki-validation    { try_files $uri $uri/ =404; }
            return 301 /index.php$request_uri;
        }

        # Code, configuration and data are never served.
        location ~ ^/(?:build|tests|config|lib|3rdparty|templates|data)(?:$|/)  { return 404; }
        location ~ ^/(?:\.|autotest|occ|issue|indie|db_|console)                { return 404; }

        location ~ \.php(?:$|/) {
            # Every PHP entry point that is not a known script goes through the front controller.
            rewrite ^/(?!index|remote|public|cron|core\/ajax\/update|status|ocs\/v[12]|updater\/.+|ocs-provider\/.+|.+\/richdocumentscode(_arm64)?\/proxy) /index.php$request_uri;

            fastcgi_split_path_info ^(.+?\.php)(/.*)$;
            set $path_info $fastcgi_path_info;

            try_files $fastcgi_script_name =404;

            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param PATH_INFO $path_info;
            fastcgi_param modHeadersAvailable true;
            fastcgi_param front_controller_active true;
            fastcgi_pass php-handler;

            fastcgi_intercept_errors on;
            fastcgi_request_buffering off;
            fastcgi_read_timeout 3600s;
            fastcgi_max_temp_file_size 0;
        }

        # Static assets, cached by browsers.
        location ~ \.(?:css|js|mjs|svg|gif|ico|jpg|png|webp|wasm|tflite|map|ogg|flac)$ {
            try_files $uri /index.php$request_uri;
            add_header Cache-Control "public, max-age=15778463$asset_immutable";
            add_header Referrer-Policy "no-referrer" always;
            add_header X-Content-Type-Options "nosniff" always;
            add_header X-Frame-Options "SAMEORIGIN" always;
            add_header X-Permitted-Cross-Domain-Policies "none" always;
            add_header X-Robots-Tag "noindex, nofollow" always;
            add_header X-XSS-Protection "1; mode=block" always;
            access_log off;
        }

        location ~ \.(otf|woff2?)$ {
            try_files $uri /index.php$request_uri;
            expires 7d;
            access_log off;
        }

        location /remote {
            return 301 /remote.php$request_uri;
        }

        location / {
            try_files $uri $uri/ /index.php$request_uri;
        }
    }
}
{{- end }}
