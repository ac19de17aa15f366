//! moto starts and stops from the tests, and answers the S3 and RDS calls later stages use.

use sqlmig_tests::moto::Moto;

#[test]
fn moto_serves_s3_buckets_and_the_rds_api() {
    let m = Moto::start();
    let (status, _) = m.request("s3", "PUT", "/sqlmig-backups", "", "application/xml");
    assert_eq!(status, 200);
    let (status, body) = m.request("s3", "GET", "/", "", "application/xml");
    assert_eq!(status, 200);
    assert!(body.contains("<Name>sqlmig-backups</Name>"), "{body}");

    let (status, body) = m.request(
        "rds",
        "POST",
        "/",
        "Action=DescribeDBInstances&Version=2014-10-31",
        "application/x-www-form-urlencoded",
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("DescribeDBInstancesResponse"), "{body}");

    let port = m.port;
    drop(m);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "moto stops when dropped"
    );
}
