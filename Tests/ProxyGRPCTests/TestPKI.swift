// Test-only PKI for the TLS tests: a CA; a server certificate for the names localhost and
// proxy.test only (no IP address, so a client connecting to 127.0.0.1 must be given a server
// name); a client certificate. All signed by the CA and valid until 2126.
// Made with openssl (P-256 keys, PKCS#8); none of these keys protects anything.

enum TestPKI {
    static let ca = """
        -----BEGIN CERTIFICATE-----
        MIIBnzCCAUWgAwIBAgIUNBOQ7PCU1fBp8IrRRnFt1HNjjCAwCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRUHJveHlHUlBDIFRlc3QgQ0EwIBcNMjYxMjA3MTY1MjA4WhgP
        MjEyNjExMTMxNjUyMDhaMBwxGjAYBgNVBAMMEVByb3h5R1JQQyBUZXN0IENBMFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEq6RLCfuXcZIGglSSeQgt8QDtVgGFJV/n
        yJz70eGVNH1xLJHnQ8wyt3eovqyle65mxe+7tR6+mhSRk5nHMKykiKNjMGEwHQYD
        VR0OBBYEFDzMuorbfRmxXpNTJtzKhRpmPAdDMB8GA1UdIwQYMBaAFDzMuorbfRmx
        XpNTJtzKhRpmPAdDMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoG
        CCqGSM49BAMCA0gAMEUCIQDiz1Qf5Drf/dtM+Le+2lP/5AjDqtTd0gVTwXwFaVeV
        bAIgGhGi7N3ri8IeY/Iio8ks6NvM+MFnzjxEQrmfteWLvjk=
        -----END CERTIFICATE-----
        """

    static let serverCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBqjCCAVCgAwIBAgIUWf8RkkLtGrvuaQXME20goq7ZOjMwCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRUHJveHlHUlBDIFRlc3QgQ0EwIBcNMjYxMjA3MTcxNDM0WhgP
        MjEyNjExMTMxNzE0MzRaMBExDzANBgNVBAMMBnNlcnZlcjBZMBMGByqGSM49AgEG
        CCqGSM49AwEHA0IABEpde48OuU0pBipdAPH2HUCYTrpFw3gXzoz5Wl173AkPXIAA
        Jb9rw+UMoHG66yh9EijLBfT0JesbgKAlo3E2LpGjeTB3MCAGA1UdEQQZMBeCCWxv
        Y2FsaG9zdIIKcHJveHkudGVzdDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4E
        FgQU/d8kO6iPescsmygUpElaH1cLa8kwHwYDVR0jBBgwFoAUPMy6itt9GbFek1Mm
        3MqFGmY8B0MwCgYIKoZIzj0EAwIDSAAwRQIgIt8lSQBUG0mzhr5Gv5mKX1Z9E3lg
        6WcailN5VoCiuHwCIQCqbUjbQdxTtVwN3aLjsHanDjEreOOelZ7DUK8f9/eiVQ==
        -----END CERTIFICATE-----
        """

    static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrrLcI/rxwN11Y+mQ
        OcB1lEbNd+vioGqJP0/cNsyIST+hRANCAARKXXuPDrlNKQYqXQDx9h1AmE66RcN4
        F86M+Vpde9wJD1yAACW/a8PlDKBxuusofRIoywX09CXrG4CgJaNxNi6R
        -----END PRIVATE KEY-----
        """

    static let clientCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBiDCCAS6gAwIBAgIUWf8RkkLtGrvuaQXME20goq7ZOjIwCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRUHJveHlHUlBDIFRlc3QgQ0EwIBcNMjYxMjA3MTY1MjA4WhgP
        MjEyNjExMTMxNjUyMDhaMBExDzANBgNVBAMMBmNsaWVudDBZMBMGByqGSM49AgEG
        CCqGSM49AwEHA0IABK1T9TwFKQ9fBZ1E/ByN8GY/6qwk1PYs6TpfoZEIvDBclD24
        EqgSQCrL71yi7maotQzKwmS0OjZzfqXvjl+yvdOjVzBVMBMGA1UdJQQMMAoGCCsG
        AQUFBwMCMB0GA1UdDgQWBBQNTPGRmH41SZ9/i66zqPAXGMG7bzAfBgNVHSMEGDAW
        gBQ8zLqK230ZsV6TUybcyoUaZjwHQzAKBggqhkjOPQQDAgNIADBFAiB347nHMi+Z
        LWwrgvgss52NSF//YDJJiXQYnYBvQO+jDAIhAL+NhpbGrqGlJb54zoVMgv5c7e73
        wqeqiWlM0HBEdM65
        -----END CERTIFICATE-----
        """

    static let clientKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3j6aglxx7mHJuXmV
        CiwJxnMdrM++gnKgpXv1LvGwtRGhRANCAAStU/U8BSkPXwWdRPwcjfBmP+qsJNT2
        LOk6X6GRCLwwXJQ9uBKoEkAqy+9cou5mqLUMysJktDo2c36l745fsr3T
        -----END PRIVATE KEY-----
        """
}
