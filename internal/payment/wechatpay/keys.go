package wechatpay

import (
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/wechatpay-apiv3/wechatpay-go/utils"
)

// LoadPrivateKey reads the merchant API key (apiclient_key.pem, a PKCS #8 "PRIVATE KEY").
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	key, err := utils.LoadPrivateKeyWithPath(path)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: merchant private key %s: %w", path, err)
	}
	return key, nil
}

// LoadPublicKey reads the key responses and notifies are verified with: the WeChat Pay public
// key ("PUBLIC KEY" PEM) or a platform certificate ("CERTIFICATE" PEM).
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: platform public key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("wechatpay: platform public key %s: no PEM block", path)
	}
	switch block.Type {
	case "PUBLIC KEY":
		key, err := utils.LoadPublicKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("wechatpay: platform public key %s: %w", path, err)
		}
		return key, nil
	case "CERTIFICATE":
		cert, err := utils.LoadCertificate(string(data))
		if err != nil {
			return nil, fmt.Errorf("wechatpay: platform certificate %s: %w", path, err)
		}
		key, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("wechatpay: platform certificate %s: not an RSA key", path)
		}
		return key, nil
	default:
		return nil, fmt.Errorf("wechatpay: platform public key %s: PEM block is %q, want PUBLIC KEY or CERTIFICATE", path, block.Type)
	}
}
